// Building DOM and SVG from models, with the document of the element being rendered into
// (a webview's, the playground's, or a test's DOM): no framework, no innerHTML, so no
// text from the machine is ever parsed as markup.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

function fill<E extends Element>(el: E, attrs: Attrs | undefined, children: Child[]): E {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : el.ownerDocument.createTextNode(String(c)));
  }
  return el;
}

/** An HTML element. */
export function html<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, attrs?: Attrs, ...children: Child[]): HTMLElementTagNameMap[K] {
  return fill(doc.createElement(tag), attrs, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element (with a `<title>` child for a tooltip when `title` is given). */
export function svg(doc: Document, tag: string, attrs?: Attrs & { title?: string }, ...children: Child[]): SVGElement {
  const { title, ...rest } = attrs ?? {};
  const el = fill(doc.createElementNS(SVG_NS, tag) as SVGElement, rest, children);
  if (typeof title === 'string') el.append(fill(doc.createElementNS(SVG_NS, 'title'), {}, [title]));
  return el;
}

/** Replaces everything in `root` with `children`. */
export function replace(root: Element, ...children: Child[]): void {
  root.replaceChildren();
  fill(root, undefined, children);
}

/** A button-like link that posts to the host when clicked. */
export function action(doc: Document, text: string, title: string, onClick: () => void, cls = 'link'): HTMLButtonElement {
  const b = html(doc, 'button', { class: cls, title, type: 'button' }, text);
  b.addEventListener('click', onClick);
  return b;
}
