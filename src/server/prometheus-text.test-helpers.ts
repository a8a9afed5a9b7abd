/** One sample of the Prometheus text format. */
export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Parses the Prometheus text exposition format strictly enough for tests: every line must be a
 * comment (`# HELP`, `# TYPE`), blank, or a well-formed sample; anything else throws.
 */
export function parsePrometheusText(text: string): PrometheusSample[] {
  const samples: PrometheusSample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      if (!/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) throw new Error(`line ${index + 1}: malformed comment: ${line}`);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`line ${index + 1}: malformed sample: ${line}`);
    const [, name = '', labelText = '', rawValue = ''] = match;
    // Values parse like Go's ParseFloat, as Prometheus reads them: `NaN` in any case (prom-client writes `Nan`), `±Inf`.
    const value = /^[+-]?inf$/i.test(rawValue)
      ? rawValue.startsWith('-')
        ? Number.NEGATIVE_INFINITY
        : Number.POSITIVE_INFINITY
      : Number(rawValue);
    if (Number.isNaN(value) && rawValue.toLowerCase() !== 'nan') throw new Error(`line ${index + 1}: bad value: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of labelText.matchAll(LABEL)) labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, '$1');
    samples.push({ name, labels, value });
  }
  return samples;
}

/** The value of the sample with `name` whose labels include `labels`; 0 when absent. */
export function sampleValue(samples: readonly PrometheusSample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  return found?.value ?? 0;
}
