// A small modal: a title, some fields, OK / Cancel. Resolves with the form's values, or null.

import { el } from './state.js';

export function ask(title, fields, okText = 'OK') {
  return new Promise(resolve => {
    const dialog = el('dialog', { className: 'ask' });
    const form = el('form', { method: 'dialog' }, el('h3', { textContent: title }));
    for (const f of fields) form.append(f.node ?? el('label', {}, f.label, field(f)));
    const ok = el('button', { type: 'submit', value: 'ok', textContent: okText, className: 'primary' });
    const cancel = el('button', { type: 'button', textContent: 'Cancel' });
    form.append(el('div', { className: 'buttons' }, cancel, ok));
    dialog.append(form);
    document.body.append(dialog);
    let result = null;
    form.addEventListener('submit', () => { result = Object.fromEntries(new FormData(form)); });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => { dialog.remove(); resolve(result); });
    dialog.showModal();
  });
}

function field(f) {
  if (f.options) {
    const s = el('select', { name: f.name });
    s.append(...f.options.map(([value, text]) => new Option(text, value)));
    return s;
  }
  return el('input', { name: f.name, value: f.value ?? '', required: !!f.required, maxLength: 100, autocomplete: 'off' });
}

export async function askName(title, value = '', okText = 'Save') {
  const r = await ask(title, [{ label: 'Name', name: 'name', value, required: true }], okText);
  return r?.name?.trim() || null;
}
