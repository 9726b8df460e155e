import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

export interface ProcessBody {
  readonly files: ReadonlyArray<{ readonly name: string; readonly sizeBytes: number }>;
}

const invalid = (message: string) => new BadRequestException({ error: { code: 'INVALID_BODY', message } });

/** Validates `{ files: [{ name, sizeBytes }] }`: 1-100 files, names of 1-200 characters, sizes whole and below 1e15 bytes. */
@Injectable()
export class ProcessBodyPipe implements PipeTransform<unknown, ProcessBody> {
  transform(value: unknown): ProcessBody {
    const files = (value as { files?: unknown } | null)?.files;
    if (!Array.isArray(files) || files.length < 1 || files.length > 100) throw invalid('files must list 1 to 100 files.');
    for (const file of files as Array<{ name?: unknown; sizeBytes?: unknown } | null>) {
      if (typeof file?.name !== 'string' || file.name.length < 1 || file.name.length > 200) throw invalid('Each file needs a name of 1 to 200 characters.');
      if (!Number.isInteger(file.sizeBytes) || (file.sizeBytes as number) < 0 || (file.sizeBytes as number) > 1e15) {
        throw invalid('Each file needs sizeBytes, a whole number of bytes.');
      }
    }
    return { files: files as ProcessBody['files'] };
  }
}
