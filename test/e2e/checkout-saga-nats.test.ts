import { describeCheckoutSaga } from './saga/suite.ts';

// The checkout saga suite on the nats broker profile (components/nats/).
describeCheckoutSaga('nats');
