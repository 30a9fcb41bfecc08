import { type ArgumentMetadata, BadRequestException, type PipeTransform } from '@nestjs/common';

/**
 * Refuses a request body nested deeper than `maxDepth` arrays and objects, before the ValidationPipe
 * runs: class-transformer converts a body recursively, and a few thousand nested arrays (a few kB of
 * JSON) overflow its stack, which would answer 500. Register it before the ValidationPipe.
 */
export class BodyDepthPipe implements PipeTransform {
  constructor(private readonly maxDepth: number) {}

  transform(value: unknown, { type }: ArgumentMetadata): unknown {
    if (type === 'body' && isNestedDeeperThan(value, this.maxDepth)) {
      throw new BadRequestException(`The body is nested too deeply: more than ${this.maxDepth} levels of arrays and objects`);
    }
    return value;
  }
}

/** Walks the value with a stack of its own, not by recursion: the depth is what is in question. */
function isNestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > maxDepth) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
}
