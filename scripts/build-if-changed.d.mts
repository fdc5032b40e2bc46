export interface BuildTarget {
  name: string;
  inputs: string[];
  output: string;
  command: string[];
}
export const TARGETS: BuildTarget[];
export function newestMtime(path: string): number;
export function staleTargets(root: string, targets?: BuildTarget[]): BuildTarget[];
