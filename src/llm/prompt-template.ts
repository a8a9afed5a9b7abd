/** A value a prompt variable takes. */
export type PromptValue = string | number | boolean;

type Trim<S extends string> = S extends ` ${infer Rest}` ? Trim<Rest> : S extends `${infer Rest} ` ? Trim<Rest> : S;

/** The variable names in a template literal type: `'Translate {{word}} to {{ language }}'` → `'word' | 'language'`. */
export type TemplateVariables<T extends string> = string extends T
  ? string
  : T extends `${string}{{${infer Name}}}${infer Rest}`
    ? Trim<Name> | TemplateVariables<Rest>
    : never;

const VARIABLE = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;

/** The variable names in `template`, in order of first appearance. */
export function templateVariables(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(VARIABLE)) {
    const name = match[1] as string;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Replaces every `{{name}}` with its value; `values` must hold every variable. */
export function fillTemplate(template: string, values: Readonly<Record<string, PromptValue>>): string {
  return template.replace(VARIABLE, (_match, name: string) => String(values[name]));
}
