/**
 * The layer rule of `npm run lint` (eslint-rules/layers.js, wired in
 * eslint.config.js): a planted import pointing up the layers is refused, one
 * pointing down passes. It lints source text under the real config entry, without
 * the type-checked rules (the planted files do not exist on disk).
 */
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

/** The entry of eslint.config.js that carries the layer rule. */
let layerEntry: Linter.Config | undefined;
beforeAll(async () => {
  const file: string = '../../eslint.config.js';
  const { default: config } = (await import(file)) as { default: Linter.Config[] };
  layerEntry = config.find((entry) => entry.plugins?.local);
});

async function lint(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: new URL('../..', import.meta.url).pathname,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
      layerEntry!,
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('import layers', () => {
  it('is part of the lint config', () => {
    expect(layerEntry?.rules?.['local/layers']).toBeDefined();
  });

  it('refuses an import pointing up the layers', async () => {
    const messages = await lint(
      'src/realtime/planted.ts',
      "import type { ConnectionRegistry } from '../gateway/connection-registry.js';\nexport type X = ConnectionRegistry;\n",
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^local\/layers: src\/realtime .* may not import src\/gateway/);
  });

  it('refuses a module reaching into the composition root, and a re-export upward', async () => {
    expect(
      await lint(
        'src/modules/im/planted.ts',
        "import { createApp } from '../../app/create-app.js';\nvoid createApp;\n",
      ),
    ).toHaveLength(1);
    expect(
      await lint('src/shared/planted.ts', "export * from '../adapters/cache/cache.js';\n"),
    ).toHaveLength(1);
  });

  it('keeps the importer out of the server and the command line out of the importer', async () => {
    // The running server never loads import/; import/ is used by the CLI only.
    expect(
      await lint(
        'src/app/planted.ts',
        "import { importGoEasyChat } from '../import/go-easy-chat/importer.js';\nvoid importGoEasyChat;\n",
      ),
    ).toHaveLength(1);
    expect(
      await lint(
        'src/import/go-easy-chat/planted.ts',
        "import { ProgressBar } from '../../cli/progress-bar.js';\nvoid ProgressBar;\n",
      ),
    ).toHaveLength(1);
    expect(
      await lint(
        'src/cli/planted.ts',
        "import { importGoEasyChat } from '../import/go-easy-chat/importer.js';\nimport { ConversationRepository } from '../modules/im/conversation.repository.js';\nvoid importGoEasyChat;\nvoid ConversationRepository;\n",
      ),
    ).toEqual([]);
    expect(
      await lint(
        'src/import/go-easy-chat/planted.ts',
        "import { ChatType } from '../../modules/im/im.entity.js';\nvoid ChatType;\n",
      ),
    ).toEqual([]);
  });

  it('accepts imports pointing down or within a layer, and exempts tests', async () => {
    expect(
      await lint(
        'src/modules/social/planted.ts',
        "import type { PushDelivery } from '../../realtime/push-delivery.js';\nimport type { UserService } from '../user/user.service.js';\nexport type X = [PushDelivery, UserService];\n",
      ),
    ).toEqual([]);
    expect(
      await lint(
        'src/realtime/planted.test.ts',
        "import { createApp } from '../app/create-app.js';\nvoid createApp;\n",
      ),
    ).toEqual([]);
  });
});
