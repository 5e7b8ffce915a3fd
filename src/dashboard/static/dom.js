// Building the page's elements. Text always goes in as text (textContent, attributes), never as
// markup: names come from users of the cloud, and one of them could be a script otherwise.

const SVG = 'http://www.w3.org/2000/svg';

function build(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of [children ?? []].flat(Infinity)) if (c !== undefined && c !== null && c !== false) node.append(c);
  return node;
}

/** An HTML element: h('button', { class: 'x', onclick }, ['text', child]). */
export const h = (tag, attrs, children) => build(document.createElement(tag), attrs, children);
/** An SVG element, the same way. */
export const s = (tag, attrs, children) => build(document.createElementNS(SVG, tag), attrs, children);

/** A Delete button, named after what it deletes (`server web-1`) for screen readers and tests;
 * `text` is what it shows (a row's says Delete, a resource's own page says what goes). */
export const deleteButton = (what, onclick, text = 'Delete') => h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${what}`, onclick, text });

/** A label cut to `n` characters, for drawings where space is fixed; the whole name stays in the
 * element's accessible name. */
export const cut = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** A table of rows, one column per [title, value(row)]. */
export function table(caption, columns, rows) {
  return h('table', {}, [
    h('caption', { text: caption }),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map(([title]) => h('th', { scope: 'col', text: title })),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length
        ? rows.map((r) =>
            h(
              'tr',
              {},
              columns.map(([, value]) => h('td', {}, value(r))),
            ),
          )
        : h('tr', {}, h('td', { colspan: columns.length, class: 'empty', text: 'None yet.' })),
    ),
  ]);
}
