/** Plain text. */
export interface TextPart {
  type: 'text';
  text: string;
}

/**
 * An image, by URL or inline. `url` is an `https:` URL or a `data:image/…;base64,…` URL; providers
 * that take only inline images get the data URL's bytes, and refuse a remote URL they cannot fetch.
 */
export interface ImagePart {
  type: 'image';
  url: string;
  /** How closely the model looks (OpenAI's `detail`). @default 'auto' */
  detail?: 'auto' | 'low' | 'high';
}

/**
 * An image a model made, given back on its assistant message (`AssistantMessage.images`): a
 * `data:image/…;base64,…` URL, as the answer gave it, with the provider's signature when it signed
 * the image.
 */
export interface AnswerImagePart extends ImagePart {
  /**
   * The provider's opaque signature of the image, as the answer gave it (Gemini 3's image models'
   * `thoughtSignature`, which they need back on the same part to keep their context); absent when
   * it gave none.
   */
  signature?: string;
}

/** Audio given to the model, base64-encoded. */
export interface AudioPart {
  type: 'audio';
  /** Base64 bytes. */
  data: string;
  format: 'wav' | 'mp3';
}

/** A file (a PDF, say): by a provider's file id, or inline as a `data:` URL. */
export interface FilePart {
  type: 'file';
  /** A file the provider already holds (`file-…`). */
  fileId?: string;
  /** Inline content as a `data:<media type>;base64,…` URL. */
  data?: string;
  filename?: string;
}

/** An earlier refusal, as part of an assistant message's content. */
export interface RefusalPart {
  type: 'refusal';
  refusal: string;
}

/** A part of a user message. */
export type UserContentPart = TextPart | ImagePart | AudioPart | FilePart;

/** A part of an assistant message. */
export type AssistantContentPart = TextPart | RefusalPart;

/** Any content part. */
export type ContentPart = UserContentPart | RefusalPart;
