import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { storeUpload, UploadTooLargeError } from '../db/uploads';
import { detectEncoding } from '../domain/contact-csv/encoding';
import { checkFileStart } from '../domain/contact-csv/file-check';
import { ProblemError } from './problem';

export interface ReceivedContactFile {
  fields: Record<string, string>;
  upload?: { uploadId: string; fileName: string; sizeBytes: number };
}

/**
 * Reads a multipart request whose `file` part is a contact CSV, streaming the file into PostgreSQL
 * inside the caller's transaction. The first bytes are checked before anything is written, so a
 * wrong file is answered at once (422 naming the problem, 413 when too large) and leaves nothing.
 */
export async function receiveContactFile(
  trx: Kysely<Database>,
  request: FastifyRequest,
  options: { maxBytes: number },
): Promise<ReceivedContactFile> {
  if (!request.isMultipart()) {
    throw new ProblemError(415, 'NOT_MULTIPART', 'Send the CSV as multipart/form-data with a `file` part.');
  }
  const fields: Record<string, string> = {};
  let upload: ReceivedContactFile['upload'];
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      fields[part.fieldname] = String(part.value ?? '');
      continue;
    }
    const file = part as MultipartFile;
    if (file.fieldname !== 'file' || upload) {
      file.file.resume();
      throw new ProblemError(400, 'UNEXPECTED_FILE', `Only one file, in the part named "file", is accepted (got "${file.fieldname}").`);
    }
    const fileName = file.filename || 'contatos.csv';
    try {
      const stored = await storeUpload(trx, {
        tenantId: request.auth.tenantId,
        fileName,
        createdBy: request.auth.userId,
        source: file.file,
        maxBytes: options.maxBytes,
        inspect: (firstBytes) => {
          const problem = checkFileStart(firstBytes);
          if (problem) throw new ProblemError(422, problem.code, problem.detail, problem.columns ? { columns: problem.columns } : {});
          const encoding = detectEncoding(firstBytes);
          if (encoding !== 'utf8' && encoding !== 'windows-1252') {
            throw new ProblemError(422, 'FILE_ENCODING_UNSUPPORTED', `O arquivo está em ${encoding.toUpperCase()}. Salve como "CSV UTF-8" ou "CSV (separado por vírgulas)" do Excel.`);
          }
        },
      });
      if (file.file.truncated) throw new UploadTooLargeError(options.maxBytes);
      upload = { uploadId: stored.uploadId, fileName, sizeBytes: stored.sizeBytes };
    } catch (error) {
      file.file.resume();
      if (error instanceof UploadTooLargeError || (error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
        throw new ProblemError(413, 'FILE_TOO_LARGE', `The file is larger than the limit of ${options.maxBytes} bytes.`, { limitBytes: options.maxBytes });
      }
      throw error;
    }
  }
  return { fields, upload };
}
