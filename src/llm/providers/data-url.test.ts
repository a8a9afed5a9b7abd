import { describe, expect, it } from 'vitest';
import { parseDataUrl } from './data-url.js';

describe('parseDataUrl', () => {
  it.each([
    ['data:image/png;base64,iVBOR', { mediaType: 'image/png', data: 'iVBOR' }],
    ['data:Application/PDF;name=a.pdf;base64,JVBE', { mediaType: 'application/pdf', data: 'JVBE' }],
    ['data:text/plain,hello', undefined],
    ['https://example.com/a.png', undefined],
  ])('reads %s', (url, parsed) => {
    expect(parseDataUrl(url)).toEqual(parsed);
  });
});
