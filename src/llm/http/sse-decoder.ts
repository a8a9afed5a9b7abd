import { StringDecoder } from 'node:string_decoder';

/** One server-sent event: its `event:` name (undefined for the default `message`) and its `data:` lines joined. */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * Decodes a `text/event-stream` body incrementally, chunk by chunk as the bytes arrive: UTF-8
 * characters and lines split across chunks are joined, `\n`, `\r\n` and `\r` all end a line
 * (a `\r` at once, even at a chunk's end: a `\n` that then starts the next chunk is the rest of
 * its `\r\n`), one byte order mark at the start of the body is skipped, comments (`:`) and
 * unknown fields are skipped, and an event is emitted at each blank line once it has data (the
 * format's rules, as OpenAI and compatible servers use it). An event the body ends in the middle
 * of is never emitted, as the format says.
 */
export class SseDecoder {
  readonly #text = new StringDecoder('utf8');
  #pending = '';
  #data: string | undefined;
  #event: string | undefined;
  /** Nothing decoded yet: a byte order mark may still come first. */
  #atStart = true;
  /** The last chunk ended in a `\r`: a `\n` at the start of the next one belongs to it. */
  #afterCarriage = false;

  /** The events completed by `chunk`, in order; usually zero or one. */
  push(chunk: Buffer | string): SseEvent[] {
    let text = this.#pending + (typeof chunk === 'string' ? chunk : this.#text.write(chunk));
    if (this.#atStart && text !== '') {
      this.#atStart = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const events: SseEvent[] = [];
    let start = 0;
    if (this.#afterCarriage && text !== '') {
      this.#afterCarriage = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    // The next '\r' is looked for again only once the lines read have passed it: a body without
    // any (the usual case) is scanned for one once per chunk, not once per line.
    let carriage = text.indexOf('\r', start);
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (carriage !== -1 && carriage < start) carriage = text.indexOf('\r', start);
      let end: number;
      let next: number;
      if (carriage !== -1 && (newline === -1 || carriage < newline)) {
        end = carriage;
        if (carriage === text.length - 1) {
          // The line ends here, whether or not a '\n' follows in the next chunk.
          this.#afterCarriage = true;
          next = carriage + 1;
        } else next = text.charCodeAt(carriage + 1) === 10 ? carriage + 2 : carriage + 1;
      } else if (newline !== -1) {
        end = newline;
        next = newline + 1;
      } else break;
      this.#line(text, start, end, events);
      start = next;
    }
    this.#pending = start === 0 ? text : text.slice(start);
    return events;
  }

  #line(text: string, start: number, end: number, events: SseEvent[]): void {
    if (start === end) {
      if (this.#data !== undefined) events.push({ event: this.#event, data: this.#data });
      this.#data = undefined;
      this.#event = undefined;
      return;
    }
    if (text.charCodeAt(start) === 58) return; // ':' starts a comment
    const colon = text.indexOf(':', start);
    const nameEnd = colon === -1 || colon > end ? end : colon;
    const name = text.slice(start, nameEnd);
    let valueStart = nameEnd === end ? end : nameEnd + 1;
    if (text.charCodeAt(valueStart) === 32 && valueStart < end) valueStart += 1;
    const value = text.slice(valueStart, end);
    if (name === 'data') this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
    else if (name === 'event') this.#event = value;
  }
}
