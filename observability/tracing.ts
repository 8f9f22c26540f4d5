import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import type { AppConfig } from '../config';

export interface Tracing {
  /** Give it to the Client (API) and to Worker.create (worker): it adds the SDK's OpenTelemetry interceptors. */
  plugin: OpenTelemetryPlugin;
  /** Flushes the spans still buffered; call it on shutdown. */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry tracing through the SDK's interceptors (client → workflow → activity spans, linked through Temporal
 * headers), exported over OTLP/HTTP. Off unless OTEL_ENABLED: undefined then, and nothing is loaded into the bundle.
 * Span attributes are the SDK's (workflow and activity types and ids); no payload is ever attached.
 */
export function createTracing(
  config: Pick<AppConfig, 'OTEL_ENABLED' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_SERVICE_NAME'>,
  component: 'api' | 'worker',
): Tracing | undefined {
  if (!config.OTEL_ENABLED) return undefined;
  const resource = new Resource({ 'service.name': config.OTEL_SERVICE_NAME, 'service.component': component });
  const exporter = new OTLPTraceExporter(
    config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? { url: config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT } : {},
  );
  const spanProcessor = new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // The global provider and W3C propagator, so that client and activity spans are recorded, not no-ops.
  provider.register();
  const plugin = new OpenTelemetryPlugin({
    resource,
    spanProcessor,
    tracer: provider.getTracer('agent-connections'),
  });
  return { plugin, shutdown: () => provider.shutdown() };
}
