import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Observable, Subscription } from 'rxjs';

// A consumer in a rebalance is alive and resumes by itself.
const READY_STATUSES = new Set(['connected', 'rebalancing']);

/** Ready when every Kafka connection of the service (consumer, producer) is up. */
@Injectable()
export class KafkaHealthIndicator implements OnModuleDestroy {
  private readonly statuses = new Map<string, string>();
  private readonly subscriptions: Subscription[] = [];

  constructor(private readonly healthIndicator: HealthIndicatorService) {}

  /** Follows the status stream of a Nest Kafka client or server under `name`. */
  watch(name: string, status: Observable<string>): void {
    this.statuses.set(name, 'connecting');
    this.subscriptions.push(status.subscribe((value) => this.statuses.set(name, value)));
  }

  check() {
    const indicator = this.healthIndicator.check('kafka');
    const statuses = Object.fromEntries(this.statuses);
    const ready = this.statuses.size > 0 && [...this.statuses.values()].every((value) => READY_STATUSES.has(value));
    return ready ? indicator.up(statuses) : indicator.down(statuses);
  }

  onModuleDestroy(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }
}
