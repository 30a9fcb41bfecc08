// Command receipt-consumer is the opt-in Go consumer of `student-billing` (docs/go-consumer.md). In a
// consumer group of its own, beside notifier-consumer, it issues a receipt (a log line) for each
// billed student, in the trace of the request that registered the student.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The topic it consumes, as common/src/contracts/student.events.ts names it.
const topic = "student-billing"

func main() {
	// The container's healthcheck: its image has no other program to probe with.
	if len(os.Args) == 2 && os.Args[1] == "healthcheck" {
		os.Exit(probeReadiness(os.Getenv("PORT")))
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	if err := run(logger); err != nil {
		logger.Error("receipt-consumer stopped", "error", err.Error())
		os.Exit(1)
	}
}

func run(logger *slog.Logger) error {
	config, err := configFromEnvironment(os.Getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	shutdownTracing, err := startTracing(ctx)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	// Last: the spans of the last messages are exported before the process exits.
	defer shutdownTracing()

	// Ready (/health/ready) once the group first gave it partitions: from then on it consumes. A
	// rebalance later does not make it unready, as with the Node consumers.
	var assigned atomic.Bool
	client, err := kgo.NewClient(
		kgo.SeedBrokers(config.brokers...),
		kgo.ClientID(config.clientID),
		kgo.ConsumerGroup(config.group),
		kgo.ConsumeTopics(topic),
		// As notifier-consumer (fromBeginning): a new group starts at the beginning of the topic.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Committed once handled (marked below): a crash delivers a message again, never skips it.
		kgo.AutoCommitMarks(),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) { assigned.Store(true) }),
	)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	health := serveHealth(config.host, config.port, client, &assigned, logger)
	receipts := newReceipts(config, logger)
	logger.Info("consuming", "topic", topic, "group", config.group, "brokers", config.brokers)

	for {
		fetches := client.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			break
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.Canceled) {
				logger.Warn("fetch failed, retrying", "topic", topic, "partition", partition, "error", err.Error())
			}
		})
		fetches.EachRecord(func(record *kgo.Record) {
			receipts.process(record)
			client.MarkCommitRecords(record)
		})
	}

	logger.Info("stopping: committing what was handled, leaving the group")
	closing, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.CommitMarkedOffsets(closing); err != nil {
		logger.Warn("last commit failed: those messages will be delivered again", "error", err.Error())
	}
	client.Close()
	return health.Shutdown(closing)
}
