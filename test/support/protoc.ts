import { execFileSync, spawnSync } from 'node:child_process';
import { PROTO_DIR, protoFiles } from '../../scripts/gen-proto.js';

/**
 * Debian's `protoc` (package protobuf-compiler) as an independent reader and writer
 * of protobuf: what a consumer or producer built from the .proto files, in any
 * language, makes of easy-chat's bytes. `.ci/run` installs it; elsewhere the tests
 * that need it run where it is installed and fail under CI_REQUIRE_SERVICES.
 */
export const HAS_PROTOC = spawnSync('protoc', ['--version']).status === 0;
export const RUN_PROTOC_TESTS = HAS_PROTOC || process.env.CI_REQUIRE_SERVICES === '1';

function protoc(mode: 'decode' | 'encode', message: string, input: Uint8Array | string): Buffer {
  return execFileSync(
    'protoc',
    [`--proto_path=${PROTO_DIR}`, `--${mode}=${message}`, ...protoFiles()],
    { input, maxBuffer: 16 * 1024 * 1024 },
  );
}

/** The protobuf text format of `bytes` read as `message` (e.g. easychat.mq.v1.EmailNotifyReq). */
export function protocDecode(message: string, bytes: Uint8Array): string {
  return protoc('decode', message, bytes).toString('utf8');
}

/** The binary encoding of `text` (protobuf text format) as `message`. */
export function protocEncode(message: string, text: string): Buffer {
  return protoc('encode', message, text);
}
