package main

import (
	"strings"
	"testing"
)

func environment(values map[string]string) func(string) string {
	return func(key string) string { return values[key] }
}

func TestConfigFromTheComposeVariables(t *testing.T) {
	c, err := configFromEnvironment(environment(map[string]string{
		"KAFKA_BROKERS": "kafka:19092", "KAFKA_CONSUMER_GROUP": "receipt-consumer", "OTEL_SERVICE_NAME": "receipt-consumer", "PORT": "3003",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.brokers, ",") != "kafka:19092" || c.group != "receipt-consumer" || c.clientID != "receipt-consumer" || c.port != 3003 {
		t.Errorf("config %+v", c)
	}
	if c.server == nil || c.server.host != "kafka" || c.server.port != 19092 {
		t.Errorf("server %+v, want kafka:19092", c.server)
	}
}

func TestSeveralBrokersNameNoServer(t *testing.T) {
	c, err := configFromEnvironment(environment(map[string]string{
		"KAFKA_BROKERS": "kafka-1:19092,kafka-2:19092", "KAFKA_CONSUMER_GROUP": "g", "OTEL_SERVICE_NAME": "s",
	}))
	if err != nil || c.server != nil || len(c.brokers) != 2 {
		t.Errorf("config %+v, error %v; want two brokers and no server", c, err)
	}
}

func TestEveryMissingOrWrongVariableIsNamed(t *testing.T) {
	_, err := configFromEnvironment(environment(map[string]string{"KAFKA_BROKERS": "kafka", "PORT": "http"}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"KAFKA_CONSUMER_GROUP is not set", "OTEL_SERVICE_NAME is not set", "PORT=http is not a port number", "KAFKA_BROKERS=kafka is not host:port"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}
