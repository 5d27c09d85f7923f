export type Role = 'customer' | 'admin';

export type User = {
  id: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  createdAt: Date;
};

/** Storage of accounts; emails are stored lower-cased so uniqueness is case-insensitive. */
export type UserRepository = {
  insert(user: User): Promise<'inserted' | 'email_taken'>;
  findByEmail(email: string): Promise<User | undefined>;
  remove(id: string): Promise<void>;
};

export function createMemoryUserRepository(): UserRepository {
  const byEmail = new Map<string, User>();
  return {
    async insert(user) {
      if (byEmail.has(user.email)) return 'email_taken';
      byEmail.set(user.email, user);
      return 'inserted';
    },
    findByEmail: async (email) => byEmail.get(email),
    async remove(id) {
      for (const [email, user] of byEmail) if (user.id === id) byEmail.delete(email);
    },
  };
}
