import { Module } from '@nestjs/common';
import { DirectoryController } from './directory.controller.js';
import { Directory } from './directory.service.js';

/** incidents' copies of oncall's services, users and teams. */
@Module({ controllers: [DirectoryController], providers: [Directory], exports: [Directory] })
export class DirectoryModule {}
