// Imports every subpath of the package's `exports` map by name (self-reference), after `npm run build`,
// and checks that each resolves, loads, and has its type declarations.
import { existsSync, readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
let failed = 0;
for (const [subpath, target] of Object.entries(manifest.exports)) {
  if (subpath === './package.json') continue;
  const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
  try {
    const module = await import(specifier);
    const names = Object.keys(module);
    if (names.length === 0) throw new Error('exports nothing');
    if (!existsSync(new URL(`../${target.types}`, import.meta.url))) throw new Error(`missing types ${target.types}`);
    console.log(`ok   ${specifier} (${names.length} exports)`);
  } catch (error) {
    failed++;
    console.error(`FAIL ${specifier}: ${error.message}`);
  }
}
if (!existsSync(new URL(`../${manifest.bin.groundwork}`, import.meta.url))) {
  failed++;
  console.error(`FAIL bin ${manifest.bin.groundwork} missing`);
}
process.exit(failed === 0 ? 0 : 1);
