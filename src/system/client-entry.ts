// The client bundle's entry (dist/client.mjs): what bin/outloop.js loads in system mode, and nothing more.
export { runClient } from './client.js';
export { prepareSession } from './session.js';
export { encodeFrame } from './protocol.js';
