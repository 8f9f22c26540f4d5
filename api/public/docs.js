// Renders /openapi.json as a readable list of operations, parameters, bodies and responses; no build step.
'use strict';

function el(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function schemaText(schema, components, depth = 0) {
  if (!schema) return '';
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop();
    return depth > 3 ? name : `${name} ${schemaText(components[name], components, depth + 1)}`;
  }
  return JSON.stringify(schema, null, 2);
}

async function main() {
  const root = document.getElementById('operations');
  const document_ = await (await fetch('/openapi.json')).json();
  const components = document_.components.schemas;
  root.replaceChildren();
  root.append(el('p', document_.info.description));
  for (const [path, item] of Object.entries(document_.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const card = el('section', undefined, { class: 'card' });
      card.append(el('h2', `${method.toUpperCase()} ${path}`));
      card.append(el('p', `${operation.summary}. Scope: ${operation['x-required-scope']}.`));
      if (operation.description) card.append(el('p', operation.description));
      const parameters = operation.parameters ?? [];
      if (parameters.length > 0) {
        const list = el('ul');
        for (const p of parameters) list.append(el('li', `${p.name} (${p.in}${p.required ? ', required' : ''})`));
        card.append(el('h3', 'Parameters'), list);
      }
      const body = operation.requestBody?.content?.['application/json']?.schema;
      if (body) card.append(el('h3', 'Body'), el('pre', schemaText(body, components)));
      const responses = el('ul');
      for (const [status, response] of Object.entries(operation.responses)) {
        responses.append(el('li', `${status}: ${response.description}`));
      }
      card.append(el('h3', 'Responses'), responses);
      root.append(card);
    }
  }
}

document.addEventListener('DOMContentLoaded', () => {
  main().catch((error) => {
    document.getElementById('operations').textContent = `Could not load the API description: ${error.message}`;
  });
});
