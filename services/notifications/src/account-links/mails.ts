/** What a link mail needs: whom it greets, the token and its lifetime, where the shop is. */
export type LinkMailInput = {
  name: string;
  token: string;
  /** When the token was issued (the event's time) and when it stops working. */
  requestedAt: string;
  expiresAt: string;
  publicUrl: string;
};

/** `<PUBLIC_URL><page>?token=<token>`, the token encoded whatever characters it has. */
export function linkTo(publicUrl: string, page: string, token: string): string {
  return `${publicUrl}${page}?token=${encodeURIComponent(token)}`;
}

/** "30 minutes", "24 hours", "1 hour": the token's lifetime, rounded to whole minutes. */
export function lifetimeOf(requestedAt: string, expiresAt: string): string {
  const minutes = Math.max(
    1,
    Math.round((Date.parse(expiresAt) - Date.parse(requestedAt)) / 60_000),
  );
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  return minutes % 60 === 0 ? plural(minutes / 60, 'hour') : plural(minutes, 'minute');
}

function validity(input: LinkMailInput): string {
  const until = new Date(input.expiresAt).toUTCString();
  return `The link is valid for ${lifetimeOf(input.requestedAt, input.expiresAt)}, until ${until}, and works once.`;
}

export function passwordResetMail(input: LinkMailInput) {
  const link = linkTo(input.publicUrl, '/reset-password', input.token);
  return {
    title: 'Reset your Shop password',
    body: [
      `Hello ${input.name},`,
      `someone asked to reset the password of your Shop account. To choose a new one, open:\n${link}`,
      `Or enter this code on the reset page:\n${input.token}`,
      validity(input),
      'If you did not ask for this, ignore this mail: your password stays as it is, and ' +
        'nobody can change it without this link.',
    ].join('\n\n'),
    link,
  };
}

export function emailVerificationMail(input: LinkMailInput) {
  const link = linkTo(input.publicUrl, '/verify-email', input.token);
  return {
    title: 'Confirm your email address for Shop',
    body: [
      `Hello ${input.name},`,
      `please confirm that this address belongs to your Shop account by opening:\n${link}`,
      `Or enter this code on the confirmation page:\n${input.token}`,
      validity(input),
      'If you did not create a Shop account, ignore this mail: the address is not ' +
        'confirmed unless the link is opened.',
    ].join('\n\n'),
    link,
  };
}
