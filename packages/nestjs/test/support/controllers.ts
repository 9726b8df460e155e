import { BadRequestException, Body, Controller, Get, NotFoundException, ParseIntPipe, Post, Query, UseGuards, type CanActivate } from '@nestjs/common';
import type { RequestMeter } from '@meterkit/core';
import { Meter, Metered } from '../../src';

@Controller('reports')
@Metered('api_calls')
export class ReportsController {
  @Get()
  list(): { reports: string[] } {
    return { reports: ['daily'] };
  }

  @Get('heavy')
  @Metered('api_calls', 4)
  @Metered('gb_processed', 2)
  heavy(): { ok: true } {
    return { ok: true };
  }

  @Get('missing')
  missing(): never {
    throw new NotFoundException('No such report');
  }

  @Get('failing')
  failing(): never {
    throw new Error('database down');
  }
}

@Controller('uploads')
export class UploadsController {
  @Post()
  upload(@Body() body: { gb?: number }, @Meter() meter: RequestMeter | null): { metered: boolean } {
    meter?.record('gb_processed', body.gb ?? 0);
    return { metered: meter !== null };
  }

  @Post('broken')
  broken(@Body() body: { gb?: number }, @Meter() meter: RequestMeter | null): never {
    meter?.record('gb_processed', body.gb ?? 0);
    throw new Error('storage down');
  }
}

class DenyAll implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

/** Requests refused by a pipe, a guard or the handler's own validation. */
@Controller('checked')
@Metered('api_calls')
export class CheckedController {
  @Get('pages')
  @Metered('gb_processed', 3)
  pages(@Query('count', ParseIntPipe) count: number): { count: number } {
    return { count };
  }

  @Get('admin')
  @UseGuards(DenyAll)
  admin(): { ok: true } {
    return { ok: true };
  }

  @Post('import')
  import(@Body() body: { gb?: unknown }, @Meter() meter: RequestMeter | null): { gb: number } {
    meter?.record('gb_processed', 6);
    if (typeof body.gb !== 'number') throw new BadRequestException('gb must be a number');
    return { gb: body.gb };
  }
}
