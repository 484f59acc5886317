import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { BOOTSTRAP_ADMIN_NAME, type Principal } from '#libs/auth';
import type { Actor } from '../incidents/incident.entity.js';
import { Directory } from './directory.service.js';

/** Runs an API command in one transaction, as the calling user (named from the users copy). */
@Injectable()
export class Commands {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly directory: Directory,
  ) {}

  run<T>(principal: Principal, fn: (em: EntityManager, by: Actor) => Promise<T>): Promise<T> {
    return this.db.transaction(async (em) =>
      fn(em, principal.userId ? await this.directory.actor(em, principal.userId, 'api') : { userId: null, name: BOOTSTRAP_ADMIN_NAME, source: 'api' }),
    );
  }
}
