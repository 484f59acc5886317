import { Inject, Injectable } from '@nestjs/common';
import { CONFIG } from '#libs/config';
import type { IngestConfig } from '../config.js';
import { urlProblem } from './sns.js';

const CERT_TTL_MS = 24 * 3600 * 1000;
const MAX_CERT_BYTES = 64 * 1024;
const TIMEOUT_MS = 5000;

/** SNS could not be reached (for a certificate or a confirmation): the delivery should be retried. */
export class SnsUnreachableError extends Error {}

/**
 * The only outbound calls ingest makes: signing certificates and subscription confirmations,
 * each to an allow-listed SNS host (SNS_SIGNING_CERT_HOSTS), with a timeout and a size cap.
 * Certificates are cached for a day.
 */
@Injectable()
export class SnsFetcher {
  private readonly certs = new Map<string, { pem: string; expires: number }>();
  readonly hostPattern: RegExp;

  constructor(@Inject(CONFIG) private readonly config: IngestConfig) {
    this.hostPattern = new RegExp(config.SNS_SIGNING_CERT_HOSTS);
  }

  problemWith(url: string): string | undefined {
    return urlProblem(url, this.hostPattern, this.config.SNS_ALLOW_HTTP_CERT_URLS);
  }

  async certificate(url: string): Promise<string> {
    const hit = this.certs.get(url);
    if (hit && hit.expires > Date.now()) return hit.pem;
    const pem = await this.get(url, MAX_CERT_BYTES);
    if (this.certs.size > 100) this.certs.clear();
    this.certs.set(url, { pem, expires: Date.now() + CERT_TTL_MS });
    return pem;
  }

  async confirm(subscribeUrl: string): Promise<void> {
    await this.get(subscribeUrl, 64 * 1024);
  }

  private async get(url: string, maxBytes: number): Promise<string> {
    const problem = this.problemWith(url);
    if (problem) throw new Error(`refusing to fetch ${url}: ${problem}`);
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
    } catch (err) {
      throw new SnsUnreachableError(`could not reach ${new URL(url).host}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new SnsUnreachableError(`${new URL(url).host} answered ${res.status}`);
    const body = await res.arrayBuffer();
    if (body.byteLength > maxBytes) throw new SnsUnreachableError(`${new URL(url).host} answered more than ${maxBytes} bytes`);
    return Buffer.from(body).toString('utf8');
  }
}
