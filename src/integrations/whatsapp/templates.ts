import type { BodyParameters, ParameterFormat, TemplateComponent, WhatsAppTemplate } from './types';

const placeholder = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

export function bodyComponent(template: Pick<WhatsAppTemplate, 'components'>): TemplateComponent | undefined {
  return template.components.find((component) => component.type.toUpperCase() === 'BODY');
}

export function parameterFormat(template: Pick<WhatsAppTemplate, 'parameter_format'>): ParameterFormat {
  return template.parameter_format === 'NAMED' ? 'NAMED' : 'POSITIONAL';
}

/**
 * The body's placeholders, each once: `['1', '2']` for `{{1}}`/`{{2}}` (in number order), or the
 * names in order of first appearance for a NAMED template (`['nome', 'data_vencimento']`). A send
 * must give exactly these, or Meta answers 132000.
 */
export function templatePlaceholders(template: Pick<WhatsAppTemplate, 'components' | 'parameter_format'>): string[] {
  const text = bodyComponent(template)?.text ?? '';
  const names = [...new Set(Array.from(text.matchAll(placeholder), (match) => match[1]))];
  if (parameterFormat(template) === 'NAMED') return names;
  return names.filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(a) - Number(b));
}

/** The `components` of a send request for these body values (none when there are no values). */
export function bodyComponents(parameters: BodyParameters | undefined): unknown[] | undefined {
  if (!parameters) return undefined;
  const list = isPositional(parameters)
    ? parameters.map((text) => ({ type: 'text', text }))
    : Object.entries(parameters).map(([name, text]) => ({ type: 'text', parameter_name: name, text }));
  return list.length === 0 ? undefined : [{ type: 'body', parameters: list }];
}

function isPositional(parameters: BodyParameters): parameters is readonly string[] {
  return Array.isArray(parameters);
}
