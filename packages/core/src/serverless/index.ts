export { createFlushHandler, type FlushContext, type FlushHandlerOptions } from './flush-handler';
