import { describeCheckoutSaga } from './saga/suite.ts';

// The checkout saga suite on the rabbitmq broker profile (components/rabbitmq/).
describeCheckoutSaga('rabbitmq');
