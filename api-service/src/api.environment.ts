import { CLIENT_TRACEPARENT_SETTINGS } from '@demo/common/telemetry';
import { IsIn, IsOptional } from 'class-validator';

/** api-service's own settings, validated at start-up with the others. */
export class ApiEnvironment {
  /**
   * `parent` (the default) or `link`: whether a client's `traceparent` makes the request part of the
   * client's trace, or starts a new trace linked to it. The telemetry bootstrap reads it
   * (common/src/telemetry/client-traceparent.ts says what each setting does).
   */
  @IsOptional()
  @IsIn(CLIENT_TRACEPARENT_SETTINGS)
  CLIENT_TRACEPARENT?: (typeof CLIENT_TRACEPARENT_SETTINGS)[number];
}
