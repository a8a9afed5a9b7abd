import type { ContentBlockParam } from '@anthropic-ai/sdk/resources/messages';
import type { UserContentPart } from '../../types.js';
import { parseDataUrl } from '../data-url.js';

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/**
 * One user content part as an Anthropic block: text; an image from a base64 data URL (JPEG, PNG,
 * GIF, WebP) or an `http(s)` URL; a PDF or plain-text file from a data URL as a document.
 * Undefined for what Anthropic cannot take: audio, a file by OpenAI file id, other media types.
 * An image's `detail` has no Anthropic counterpart and is ignored (it only tunes cost, not meaning).
 */
export function toAnthropicBlock(part: UserContentPart): ContentBlockParam | undefined {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image': {
      if (/^https?:\/\//i.test(part.url)) return { type: 'image', source: { type: 'url', url: part.url } };
      const inline = parseDataUrl(part.url);
      if (inline === undefined || !IMAGE_TYPES.has(inline.mediaType)) return undefined;
      const mediaType = inline.mediaType as 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';
      return { type: 'image', source: { type: 'base64', media_type: mediaType, data: inline.data } };
    }
    case 'file': {
      if (part.fileId !== undefined || part.data === undefined) return undefined;
      const inline = parseDataUrl(part.data);
      const title = part.filename === undefined ? {} : { title: part.filename };
      if (inline?.mediaType === 'application/pdf')
        return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: inline.data }, ...title };
      if (inline?.mediaType === 'text/plain') {
        const text = Buffer.from(inline.data, 'base64').toString('utf8');
        return { type: 'document', source: { type: 'text', media_type: 'text/plain', data: text }, ...title };
      }
      return undefined;
    }
    case 'audio':
      return undefined;
  }
}
