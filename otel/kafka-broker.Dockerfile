# syntax=docker/dockerfile:1.20
# check=skip=InvalidDefaultArgInFrom
# (KAFKA_VERSION has no default on purpose: .env is the one list of versions, compose passes it.)
#
# The official Apache Kafka image with the OpenTelemetry Java agent, which reads the broker's own
# metrics from JMX and exports them to the collector. docker-compose.yml builds it for every broker
# and configures the agent in the broker's environment (KAFKA_OPTS, OTEL_*); by hand:
#
#   docker build -f otel/kafka-broker.Dockerfile --build-arg KAFKA_VERSION=... \
#     --build-arg OTEL_JAVAAGENT_VERSION=... --build-arg OTEL_JAVAAGENT_SHA256=... otel

ARG KAFKA_VERSION

FROM apache/kafka:${KAFKA_VERSION}
ARG OTEL_JAVAAGENT_VERSION
ARG OTEL_JAVAAGENT_SHA256
# From Maven Central, as the native stack fetches it, and refused unless it is the jar .env pins.
# A downloaded file is 0600 by default, and the broker runs as appuser, not as its owner. 755, not
# 644: BuildKit gives the folder it creates for the file the same mode, and a folder needs x.
ADD --chmod=755 --checksum=sha256:${OTEL_JAVAAGENT_SHA256} \
  https://repo1.maven.org/maven2/io/opentelemetry/javaagent/opentelemetry-javaagent/${OTEL_JAVAAGENT_VERSION}/opentelemetry-javaagent-${OTEL_JAVAAGENT_VERSION}.jar \
  /opt/otel/opentelemetry-javaagent.jar
