// The application around @meterkit/emulator's README examples.
declare const createMetering: typeof import('@meterkit/core').createMetering;
declare const products: import('@meterkit/core').MeteringOptions['products'];
