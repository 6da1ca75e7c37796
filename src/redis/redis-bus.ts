import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { RedisConfig } from '../config/config.classes.js';
import { REDIS, type RedisClient } from './redis-client.js';

interface Subscription {
  onMessage: (message: string) => void;
  /** Called after every (re)connect: messages may have been missed while disconnected. */
  onResync: () => void;
}

/**
 * The process's pub/sub bus: one subscriber connection shared by every in-process cache that
 * must hear about changes made elsewhere (API keys, rate-limit policies). Channel names get
 * REDIS_PREFIX, like keys, so installations sharing a Redis do not hear each other.
 */
@Injectable()
export class RedisBus implements OnApplicationShutdown {
  private readonly logger = new Logger('RedisBus');
  private readonly subscriptions = new Map<string, Subscription>();
  private subscriber: RedisClient | undefined;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly config: RedisConfig,
  ) {}

  async subscribe(channel: string, subscription: Subscription): Promise<void> {
    const name = `${this.config.keyPrefix}${channel}`;
    this.subscriptions.set(name, subscription);
    await this.connection()
      .subscribe(name)
      .catch((error: unknown) =>
        this.logger.warn(`cannot subscribe to ${channel} yet: ${String(error)}`),
      );
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(`${this.config.keyPrefix}${channel}`, message);
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }

  private connection(): RedisClient {
    if (this.subscriber === undefined) {
      const subscriber = this.redis.duplicate();
      const resync = () => this.subscriptions.forEach((subscription) => subscription.onResync());
      subscriber.on('error', () => undefined);
      subscriber.on('message', (channel: string, message: string) =>
        this.subscriptions.get(channel)?.onMessage(message),
      );
      subscriber.on('ready', resync);
      // On a cluster, ioredis moves the subscription to another node when its node leaves
      // (a failover) without a 'ready': what was published in between is reloaded instead.
      subscriber.on('-node', resync);
      this.subscriber = subscriber;
    }
    return this.subscriber;
  }
}
