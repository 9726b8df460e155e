// The application around @meterkit/store-postgres's README examples.
declare const createMetering: typeof import('@meterkit/core').createMetering;
declare const PostgresStore: typeof import('@meterkit/store-postgres').PostgresStore;
declare const products: import('@meterkit/core').MeteringOptions['products'];
