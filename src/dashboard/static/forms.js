// Forms made from a list of fields: each field is checked in the browser before anything is sent
// (the browser's own constraints, then a field's own check), and the API's message is shown when
// the cloud refuses what was sent.
import { h } from './dom.js';

/** An IPv4 or IPv6 network in CIDR notation, roughly: the API has the last word. */
export const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;

function input(f) {
  const common = { name: f.name, required: f.required, 'aria-describedby': f.hint ? `${f.name}-hint` : undefined };
  if (f.type === 'select') {
    return h('select', common, [
      ...(f.required ? [h('option', { value: '', text: '— choose —' })] : f.blank ? [h('option', { value: '', text: f.blank })] : []),
      ...f.options.map(([value, text]) => h('option', { value, text, selected: value === f.value })),
    ]);
  }
  if (f.type === 'textarea') return h('textarea', { ...common, rows: f.rows ?? 3, placeholder: f.placeholder, text: f.value ?? '' });
  if (f.type === 'checkbox') return h('input', { ...common, type: 'checkbox', checked: f.value });
  return h('input', {
    ...common,
    type: f.type ?? 'text',
    value: f.value,
    min: f.min,
    max: f.max,
    maxlength: f.maxlength ?? (f.type && f.type !== 'text' ? undefined : 255),
    pattern: f.pattern?.source,
    title: f.title,
    placeholder: f.placeholder,
    autocomplete: 'off',
  });
}

/** The values of a form, by field name: text trimmed, checkboxes as booleans. */
function valuesOf(form, fields) {
  const v = {};
  for (const f of fields) {
    const el = form.elements[f.name];
    v[f.name] = f.type === 'checkbox' ? el.checked : el.value.trim();
  }
  return v;
}

/**
 * A form named `title`: fields [{ name, label, type?, required?, options?, pattern?, title?,
 * check?(value, values) → message | undefined }]; submit(values) does the work and returns what
 * to say, or throws the API's error, which is shown. The form is reset when it worked.
 */
export function form(title, fields, submit, { report, button = 'Create', done = () => undefined } = {}) {
  const el = h('form', { class: 'launch', 'aria-label': title }, [
    ...fields.map((f) =>
      f.type === 'checkbox'
        ? h('label', { class: 'check' }, [input(f), f.label])
        : h('label', { class: f.type === 'textarea' ? 'wide' : undefined }, [
            f.label,
            input(f),
            f.hint ? h('small', { id: `${f.name}-hint`, text: f.hint }) : null,
          ]),
    ),
    h('button', { type: 'submit', text: button }),
  ]);
  el.addEventListener('input', (ev) => ev.target.setCustomValidity?.(''));
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const values = valuesOf(el, fields);
    for (const f of fields) {
      const message = f.check && values[f.name] !== '' ? f.check(values[f.name], values) : undefined;
      el.elements[f.name].setCustomValidity(message ?? '');
    }
    if (!el.reportValidity()) return;
    const submitButton = el.querySelector('button[type=submit]');
    submitButton.disabled = true;
    try {
      const said = await submit(values);
      if (said) report(said);
      el.reset();
      done();
    } catch (err) {
      report(err.message, true);
    } finally {
      submitButton.disabled = false;
    }
  });
  return el;
}

/** A form folded under a summary line, as the lists show theirs. */
export const folded = (summary, content) => h('details', {}, [h('summary', { text: summary }), content]);

/** A port or a port range, as "22" or "8000-8080": both ends 1 to 65535, the first not above the last. */
export function portRange(value) {
  const m = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(value);
  if (!m) return 'A port (22) or a range (8000-8080).';
  const [min, max] = [Number(m[1]), Number(m[2] ?? m[1])];
  if (min < 1 || max > 65535) return 'Ports go from 1 to 65535.';
  if (min > max) return 'The first port of a range must not be above the last.';
  return undefined;
}

/** Saves text as a file the browser downloads: the private key of a new key pair. */
export function download(name, text, type = 'application/x-pem-file') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has the file once the click is handled; the key then lives nowhere in the page.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
