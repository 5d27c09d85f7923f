import { type Document, isMap, isScalar, type Node, parseDocument, type YAMLMap } from 'yaml';
import { generatedNote } from './header.ts';

/**
 * A document printed as the hand-written files are: no folding, `{ a: 1 }` padded but
 * `[a, b]` not (the library pads both or neither).
 */
export function printYaml(doc: Document): string {
  return doc
    .toString({ lineWidth: 0, flowCollectionPadding: true })
    .replace(/\[ ([^[\]\n]*) \]/g, '[$1]');
}

export function parseYaml(text: string, where: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors[0]?.message}`);
  return doc;
}

/** A comment's text wrapped to lines of about 88 characters at the given indent. */
export function wrapComment(text: string, width = 86): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => ` ${l}`).join('\n');
}

/** The map at `path`, which must exist. */
export function mapAt(doc: Document, path: readonly string[], where: string): YAMLMap {
  const node = doc.getIn(path, true);
  if (!isMap(node)) throw new Error(`${where}: no map at ${path.join('.')}`);
  return node;
}

function withoutNote(comment: string | null | undefined): string {
  return (comment ?? '')
    .split('\n')
    .filter((line) => !line.includes(generatedNote))
    .join('\n');
}

/**
 * Replaces the value at `path` with `value`, the key marked as generated. A comment before
 * a map's first key is read back as the map's, so the mark is looked for there too.
 */
export function setGenerated(doc: Document, path: readonly string[], value: Node, where: string) {
  const parent = mapAt(doc, path.slice(0, -1), where);
  const key = path.at(-1) as string;
  const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === key);
  if (!pair || !isScalar(pair.key)) throw new Error(`${where}: no ${path.join('.')} to replace`);
  if (pair === parent.items[0]) {
    pair.key.commentBefore = [
      withoutNote(parent.commentBefore),
      withoutNote(pair.key.commentBefore),
    ]
      .filter(Boolean)
      .join('\n');
    parent.commentBefore = undefined;
  }
  const before = withoutNote(pair.key.commentBefore);
  pair.key.commentBefore = before ? `${before}\n ${generatedNote}` : ` ${generatedNote}`;
  pair.value = value;
}
