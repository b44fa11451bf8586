// `cargo xtask images check`: one gRPC health check of grpc-microservice's image,
// naming the service (poem-grpc answers NOT_FOUND to Check("")); k6 exits non-zero
// (threshold on checks) unless it answered SERVING.
import grpc from 'k6/net/grpc';
import { check } from 'k6';

const client = new grpc.Client();
client.load([__ENV.PROTO_DIR], 'health.proto');

export const options = { vus: 1, iterations: 1, thresholds: { checks: ['rate==1'] } };

export default function () {
  client.connect(__ENV.TARGET, { plaintext: true, timeout: '5s' });
  const response = client.invoke('grpc.health.v1.Health/Check', {
    service: 'inventory.v1.Inventory',
  });
  check(response, {
    SERVING: (r) => r && r.status === grpc.StatusOK && r.message.status === 'SERVING',
  });
  client.close();
}
