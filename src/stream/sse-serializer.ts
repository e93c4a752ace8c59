// Serialises SSE items back to the wire with LF line endings. A parser conforming to the
// WHATWG algorithm reads back exactly the items that were written.
import type { SseItem } from './sse-parser.js';

export interface OutEvent {
  event?: string;
  data: string;
  id?: string;
}

const LINE_BREAK = /\r\n|\r|\n/;

export function serializeEvent(ev: OutEvent): string {
  let out = '';
  if (ev.event) out += `event: ${oneLine(ev.event)}\n`;
  if (ev.id !== undefined) out += `id: ${oneLine(ev.id)}\n`;
  if (ev.data.includes('\n') || ev.data.includes('\r')) {
    for (const line of ev.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  } else {
    out += `data: ${ev.data}\n`;
  }
  return out + '\n';
}

export function serializeItem(item: SseItem): string {
  switch (item.kind) {
    case 'event':
      return serializeEvent(item.event);
    case 'comment':
      return `:${oneLine(item.text)}\n`;
    case 'retry':
      return `retry: ${item.ms}\n`;
    case 'id':
      return `id: ${oneLine(item.id)}\n\n`;
  }
}

// A field value cannot hold a line break; one would end the field early.
function oneLine(s: string): string {
  return LINE_BREAK.test(s) ? s.replace(/\r\n|\r|\n/g, ' ') : s;
}
