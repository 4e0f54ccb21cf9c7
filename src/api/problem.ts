/**
 * RFC 9457 problem details. Every error the API answers is one of these, built by the central
 * error handler; `code` is stable and meant for programs, `detail` is for people.
 */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  [extension: string]: unknown;
}

export const problemTitles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const problemType = (code: string) => `https://omni-campaigns.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`;

export class ProblemError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    detail: string,
    public readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }

  toBody(instance?: string): ProblemBody {
    return {
      type: problemType(this.code),
      title: problemTitles[this.status] ?? 'Error',
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

export const notFound = (what: string, id: string) =>
  new ProblemError(404, `${what.toUpperCase().replace(/[^A-Z]+/g, '_')}_NOT_FOUND`, `No ${what} with id ${id}.`);

export const conflict = (code: string, detail: string, extensions?: Record<string, unknown>) => new ProblemError(409, code, detail, extensions);

export const unprocessable = (code: string, detail: string, extensions?: Record<string, unknown>) => new ProblemError(422, code, detail, extensions);

export const badRequest = (code: string, detail: string, extensions?: Record<string, unknown>) => new ProblemError(400, code, detail, extensions);
