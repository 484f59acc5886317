import { Module } from '@nestjs/common';
import { Commands } from './commands.js';
import { DirectoryController } from './directory.controller.js';
import { Directory } from './directory.service.js';
import { IncidentOwners, ReviewOwners, ServiceOwners } from './team-owners.js';

/** incidents' copies of oncall's services, users and teams. */
@Module({ controllers: [DirectoryController], providers: [Directory, Commands, IncidentOwners, ReviewOwners, ServiceOwners], exports: [Directory, Commands] })
export class DirectoryModule {}
