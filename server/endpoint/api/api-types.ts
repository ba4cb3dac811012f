/**
 * The framework-free request/response shapes of the token endpoint, so the
 * same routes run behind Node's `http`, `@azure/functions` or a test that
 * injects requests without a socket.
 */

/** One HTTP request as the API sees it. */
export interface ApiRequest {
  method: string;
  /** Path and query exactly as received, e.g. `/api/v1/files?limit=10` (not normalized: `..` stays visible). */
  url: string;
  /** Header names lowercased; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Uint8Array;
  /** The client's address, as the adapter determined it. */
  remoteAddress: string;
  /** True when the client reached us over HTTPS (adds HSTS). */
  secure?: boolean;
}

/** One HTTP response; `body` is a JSON string, or bytes. */
export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

/** The token endpoint: one function from request to response. Never rejects. */
export interface Api {
  handle(request: ApiRequest): Promise<ApiResponse>;
}
