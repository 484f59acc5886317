import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { TeamScoped } from '#libs/auth';
import { IncidentOwners, ReviewOwners } from '../directory/team-owners.js';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { z } from 'zod';
import { CurrentPrincipal, Roles, type Principal } from '#libs/auth';
import { Commands } from '../directory/commands.js';
import { IncidentId } from '../incidents/incidents.dto.js';
import { ActionItemId, ActionItemInput, ListReviewsQuery, ReviewId, UpdateActionItemInput, UpdateReviewInput } from './reviews.dto.js';
import { ReviewsService, type ActionItem, type Review } from './reviews.service.js';

@Controller('api/v1')
export class ReviewsController {
  constructor(
    private readonly reviews: ReviewsService,
    private readonly commands: Commands,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Get('incidents/:id/review')
  forIncident(@Param('id', { schema: IncidentId }) id: string): Promise<Review> {
    return this.reviews.getForIncident(this.db.manager, id);
  }

  /** Starts a review by hand (major and P1/P2 incidents get one automatically when they resolve). */
  @Post('incidents/:id/review')
  @TeamScoped(IncidentOwners, 'responder')
  @Roles('responder')
  create(@Param('id', { schema: IncidentId }) id: string, @CurrentPrincipal() p: Principal): Promise<Review> {
    return this.commands.run(p, (em, by) => this.reviews.create(em, id, by));
  }

  @Get('reviews')
  list(@Query({ schema: ListReviewsQuery }) q: z.output<typeof ListReviewsQuery>): Promise<Review[]> {
    return this.reviews.list(this.db.manager, q.status, q.limit);
  }

  @Get('reviews/:id')
  get(@Param('id', { schema: ReviewId }) id: string): Promise<Review> {
    return this.reviews.get(this.db.manager, id);
  }

  @Patch('reviews/:id')
  @TeamScoped(ReviewOwners, 'responder')
  @Roles('responder')
  update(
    @Param('id', { schema: ReviewId }) id: string,
    @Body({ schema: UpdateReviewInput }) body: z.output<typeof UpdateReviewInput>,
    @CurrentPrincipal() p: Principal,
  ): Promise<Review> {
    return this.commands.run(p, (em, by) => this.reviews.update(em, id, body, by));
  }

  @Post('reviews/:id/action-items')
  @TeamScoped(ReviewOwners, 'responder')
  @Roles('responder')
  addItem(@Param('id', { schema: ReviewId }) id: string, @Body({ schema: ActionItemInput }) body: z.output<typeof ActionItemInput>): Promise<ActionItem> {
    return this.db.transaction((em) => this.reviews.addActionItem(em, id, body));
  }

  @Patch('reviews/:id/action-items/:itemId')
  @TeamScoped(ReviewOwners, 'responder')
  @Roles('responder')
  updateItem(
    @Param('id', { schema: ReviewId }) id: string,
    @Param('itemId', { schema: ActionItemId }) itemId: string,
    @Body({ schema: UpdateActionItemInput }) body: z.output<typeof UpdateActionItemInput>,
  ): Promise<ActionItem> {
    return this.db.transaction((em) => this.reviews.updateActionItem(em, id, itemId, body));
  }

  @Delete('reviews/:id/action-items/:itemId')
  @TeamScoped(ReviewOwners, 'responder')
  @HttpCode(204)
  @Roles('responder')
  async removeItem(@Param('id', { schema: ReviewId }) id: string, @Param('itemId', { schema: ActionItemId }) itemId: string): Promise<void> {
    await this.db.transaction((em) => this.reviews.removeActionItem(em, id, itemId));
  }
}
