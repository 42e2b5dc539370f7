// Locale resources: the base files (zh-CN.json, en.json) deep-merged with one fragment
// per feature under zh-CN/ and en/ (e.g. zh-CN/documents.json), so features keep their
// strings side by side without editing one big file.
import zhBase from './zh-CN.json';
import enBase from './en.json';

export type Tree = { [k: string]: string | Tree };

export function deepMerge(into: Tree, from: Tree): Tree {
  const out: Tree = { ...into };
  for (const [k, v] of Object.entries(from)) {
    const cur = out[k];
    out[k] = typeof v === 'object' && typeof cur === 'object' ? deepMerge(cur, v) : v;
  }
  return out;
}

function withFragments(base: Tree, fragments: Record<string, unknown>): Tree {
  return Object.keys(fragments)
    .sort()
    .reduce((acc, k) => deepMerge(acc, fragments[k] as Tree), base);
}

const zhFragments = import.meta.glob('./zh-CN/*.json', { eager: true, import: 'default' });
const enFragments = import.meta.glob('./en/*.json', { eager: true, import: 'default' });

export const zhCN: Tree = withFragments(zhBase as Tree, zhFragments);
export const en: Tree = withFragments(enBase as Tree, enFragments);
