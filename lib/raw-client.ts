// A JSON-in, JSON-out client on top of client-node's request stack (auth,
// TLS, middleware). The typed APIs turn timestamps into Date objects while the
// watch stream delivers wire JSON; informers and status writers need one shape,
// so they use this client and see objects exactly as the apiserver sent them.
import { ApiException, HttpMethod, KubernetesObjectApi } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject, ResponseContext } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import { shareApiConnections } from './api-connections.ts';

export type QueryParams = Record<string, string | number | boolean | undefined>;

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';

/**
 * Requests (not watches) in flight at once, across every RawKubeClient in the
 * process. client-node's https.Agent keeps alive every socket a burst opens
 * (up to 256 idle ones), and each TLS socket holds buffers outside the V8
 * heap: without a cap, 1,000 Services made the operator hold ~360 apiserver
 * connections and ~190 MiB of native memory. client-go bounds the same thing
 * with HTTP/2 and its QPS limiter.
 */
export const MAX_REQUESTS_IN_FLIGHT = 32;
const inFlight = pLimit(MAX_REQUESTS_IN_FLIGHT);

export class RawKubeClient extends KubernetesObjectApi {
  static fromKubeConfig(kc: KubeConfig): RawKubeClient {
    return shareApiConnections(kc).makeApiClient(RawKubeClient);
  }

  getJson<T>(path: string, query?: QueryParams): Promise<T> {
    return this.#request<T>(HttpMethod.GET, path, query);
  }

  postJson<T>(path: string, body: unknown, query?: QueryParams): Promise<T> {
    return this.#request<T>(HttpMethod.POST, path, query, body);
  }

  putJson<T>(path: string, body: unknown, query?: QueryParams): Promise<T> {
    return this.#request<T>(HttpMethod.PUT, path, query, body);
  }

  patchJson<T>(
    path: string,
    body: unknown,
    contentType: string = MERGE_PATCH,
    query?: QueryParams,
  ): Promise<T> {
    return this.#request<T>(HttpMethod.PATCH, path, query, body, contentType);
  }

  deleteJson<T>(path: string, query?: QueryParams): Promise<T> {
    return this.#request<T>(HttpMethod.DELETE, path, query);
  }

  async #request<T>(
    method: HttpMethod,
    path: string,
    query: QueryParams | undefined,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const ctx = this.configuration.baseServer.makeRequestContext(path, method);
    ctx.setHeaderParam('Accept', 'application/json');
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) ctx.setQueryParam(key, String(value));
    }
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', contentType);
      ctx.setBody(JSON.stringify(body));
    }
    // requestPromise applies auth and middleware, then calls processResponse.
    return (await inFlight(() => this.requestPromise(ctx))) as T;
  }

  // Overridden to skip the model deserializer: return the body as parsed JSON.
  protected override async processResponse<T extends KubernetesObject>(
    response: ResponseContext,
  ): Promise<T> {
    const text = await response.body.text();
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
      return (text === '' ? undefined : JSON.parse(text)) as T;
    }
    // Same exception type and body (JSON text) as the typed APIs throw.
    throw new ApiException(response.httpStatusCode, 'Unsuccessful HTTP Request', text, response.headers);
  }
}
