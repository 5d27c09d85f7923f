import { describeCheckoutSaga } from './saga/suite.ts';

// The checkout saga suite on the redis broker profile (components/redis/).
describeCheckoutSaga('redis');
