import { describeCheckoutSaga } from './saga/suite.ts';

// The checkout saga suite on the kafka broker profile (components/kafka/).
describeCheckoutSaga('kafka');
