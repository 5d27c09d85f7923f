export { streamNameOf } from './nats/nats.ts';
export {
  type BrokerHandle,
  type BrokerProfile,
  brokerProfiles,
  isBrokerProfile,
  prepareBrokers,
  shopTopics,
} from './profiles.ts';
