import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ProductConfig } from '@meterkit/core';
import { UsageError, type Context } from './io';

/** Products from `--products <file>` or env METERKIT_PRODUCTS: `[{ productCode, dimensions, identity? }]` or `{ products: [...] }`. */
export function loadProducts(context: Context, file: string | undefined): ProductConfig[] {
  const source = file !== undefined ? readText(resolve(context.cwd, file)) : context.env['METERKIT_PRODUCTS'];
  if (source === undefined) throw new UsageError('flush needs the products: --products <file.json> or env METERKIT_PRODUCTS (JSON).');
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    throw new UsageError(`The products are not valid JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { products?: unknown } | null)?.products;
  if (!Array.isArray(list)) throw new UsageError('The products must be a JSON array [{ "productCode", "dimensions" }] or { "products": [...] }.');
  return list as ProductConfig[];
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read ${path}: ${(error as Error).message}`);
  }
}
