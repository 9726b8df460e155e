import { createHash } from 'node:crypto';
import { tagsKey as keyOfTags } from '@meterkit/core';
import type { AllocationRow, Tags } from '@meterkit/core';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** Running total and tags of a tag set whose key is short: named by the hex of its key (the first layout). */
const HEX_QUANTITY = 'a:';
const HEX_TAGS = 't:';
/** Running total and tags of a tag set whose key is long: named by a hash of its key. */
const HASHED_QUANTITY = 'q:';
const HASHED_TAGS = 'g:';
/** Keys up to this many bytes are named by their hex; longer ones by a hash, shorter than the hex from here on. */
const HEX_KEY_BYTES = 11;
/** Characters of base64url SHA-256 in a hashed name: 132 bits, no collision among a record's tag sets. */
const HASH_CHARS = 22;
/** Characters of the hash in a unit's name; a collision of two tag sets here only counts one unit fewer. */
const UNIT_HASH_CHARS = 10;
/** Item bytes one unit stands for; see unitsOf. */
const UNIT_BYTES = 128;
/** Bytes a unit's name takes in the `u` set: the hash prefix, its base-36 index and a byte to spare. */
const UNIT_NAME_BYTES = 13;

/** The attributes one tag set of a record occupies, and the units it counts against the record's budget. */
export interface TagSetAttributes {
  readonly quantity: string;
  readonly tags: string;
  /** Names of this tag set's units in the record's `u` set (none for untagged usage). */
  readonly units: readonly string[];
}

/**
 * Where a tag set's running total (`quantity`) and tags JSON (`tags`) live on its record item. Untagged usage is
 * `a:`; short keys are their hex (tag keys hold NUL separators); long ones a hash, which keeps the attribute names
 * of AWS's longest tags at 24 bytes instead of 3.5 KB.
 */
export function tagSetAttributes(tagsKey: string, tags: Tags | undefined): TagSetAttributes {
  if (tagsKey === '') return { quantity: HEX_QUANTITY, tags: HEX_TAGS, units: [] };
  const hash = createHash('sha256').update(tagsKey, 'utf8').digest('base64url');
  const hashed = Buffer.byteLength(tagsKey, 'utf8') > HEX_KEY_BYTES;
  const id = hashed ? hash.slice(0, HASH_CHARS) : Buffer.from(tagsKey, 'utf8').toString('hex');
  const quantity = `${hashed ? HASHED_QUANTITY : HEX_QUANTITY}${id}`;
  const tagsName = `${hashed ? HASHED_TAGS : HEX_TAGS}${id}`;
  const count = unitsOf(quantity, tagsName, tags === undefined ? 2 : Buffer.byteLength(JSON.stringify(tags), 'utf8'));
  const prefix = hash.slice(0, UNIT_HASH_CHARS);
  return { quantity, tags: tagsName, units: Array.from({ length: count }, (_, i) => `${prefix}${i.toString(36)}`) };
}

/**
 * Units of one tag set: at most UNIT_BYTES of its record's item each. A tag set adds its two attribute names, a
 * number (9 bytes up to 2^53), its tags JSON twice (live, and in the frozen snapshot with 30 bytes of quantity and
 * punctuation) and a unit name (UNIT_NAME_BYTES) per unit.
 */
function unitsOf(quantityName: string, tagsName: string, tagsJsonBytes: number): number {
  const bytes = quantityName.length + 9 + tagsName.length + 2 * tagsJsonBytes + 30;
  return Math.ceil(bytes / (UNIT_BYTES - UNIT_NAME_BYTES));
}

/** The live allocation rows of a record item, one per tag set whichever layout wrote it. */
export function allocationRowsOfItem(item: Record<string, AttributeValue>): AllocationRow[] {
  const rows = new Map<string, { tags: Tags | undefined; quantity: number }>();
  const add = (key: string, tags: Tags | undefined, quantity: number) => {
    const row = rows.get(key);
    if (row === undefined) rows.set(key, { tags, quantity });
    else row.quantity += quantity;
  };
  for (const [name, value] of Object.entries(item)) {
    if (value.N === undefined) continue;
    if (name.startsWith(HEX_QUANTITY)) {
      const hex = name.slice(HEX_QUANTITY.length);
      add(Buffer.from(hex, 'hex').toString('utf8'), parseTags(item[`${HEX_TAGS}${hex}`]?.S), Number(value.N));
    } else if (name.startsWith(HASHED_QUANTITY)) {
      const tags = parseTags(item[`${HASHED_TAGS}${name.slice(HASHED_QUANTITY.length)}`]?.S);
      add(keyOfTags(tags), tags, Number(value.N));
    }
  }
  return [...rows].map(([tagsKey, row]) => ({ tagsKey, ...(row.tags === undefined ? {} : { tags: row.tags }), quantity: row.quantity }));
}

function parseTags(json: string | undefined): Tags | undefined {
  return json === undefined ? undefined : (JSON.parse(json) as Tags);
}
