export function klaxonHome(): string;
export function portOpen(port: number, host?: string, timeoutMs?: number): Promise<boolean>;
export function ensureKafkaJars(): void;
export function startKafka(opts?: {
  port?: number;
  controllerPort?: number;
  fresh?: boolean;
  heapMb?: number;
}): Promise<{ brokers: string; pid: number; startedMs: number; reused: boolean; dir: string }>;
export function stopKafka(opts?: { port?: number; removeData?: boolean }): Promise<boolean>;
export function ensurePostgres(): Promise<{ baseUrl: string; started: boolean; dir?: string }>;
export function stopPostgres(): boolean;
