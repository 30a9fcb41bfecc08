package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

type config struct {
	brokers  []string
	group    string
	clientID string
	// HOST:PORT of the health endpoints; no HOST is every interface (in a container).
	host string
	port int
	// The broker the spans name (server.address, server.port), when there is only one: with several,
	// which one a fetch went to is not known. As the Node services do (kafka-span-hooks.ts).
	server *serverAddress
}

type serverAddress struct {
	host string
	port int
}

// configFromEnvironment reads the variables the compose block sets, naming every one that is missing
// or wrong.
func configFromEnvironment(getenv func(string) string) (config, error) {
	var problems []string
	required := func(key string) string {
		value := strings.TrimSpace(getenv(key))
		if value == "" {
			problems = append(problems, key+" is not set")
		}
		return value
	}
	c := config{
		group:    required("KAFKA_CONSUMER_GROUP"),
		clientID: required("OTEL_SERVICE_NAME"),
		host:     getenv("HOST"),
		port:     3003,
	}
	if brokers := required("KAFKA_BROKERS"); brokers != "" {
		c.brokers = strings.Split(brokers, ",")
	}
	if port := getenv("PORT"); port != "" {
		value, err := strconv.Atoi(port)
		if err != nil || value < 1 || value > 65535 {
			problems = append(problems, fmt.Sprintf("PORT=%s is not a port number", port))
		}
		c.port = value
	}
	if len(c.brokers) == 1 {
		host, port, err := net.SplitHostPort(c.brokers[0])
		number, portErr := strconv.Atoi(port)
		if err != nil || portErr != nil {
			problems = append(problems, fmt.Sprintf("KAFKA_BROKERS=%s is not host:port", c.brokers[0]))
		} else {
			c.server = &serverAddress{host: host, port: number}
		}
	}
	if len(problems) > 0 {
		return config{}, fmt.Errorf("invalid environment: %s", strings.Join(problems, "; "))
	}
	return c, nil
}
