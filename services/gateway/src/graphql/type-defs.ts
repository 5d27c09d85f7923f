// The public GraphQL schema. Every type is the REST resource of the same name, field for
// field, with the same spellings for enum values, so a client can move between the two
// without a table; lists are `{ items, nextCursor }` pages taking `first` (REST `limit`,
// 1-100) and `after` (REST `cursor`).
export const typeDefs = /* GraphQL */ `
  "Any JSON value, passed through as the service gave it (a notification's \`data\`)."
  scalar JSON

  type Query {
    "Ranked full-text search and filters, as GET /api/v1/products."
    products(
      q: String
      category: String
      minPrice: Int
      maxPrice: Int
      inStock: Boolean
      sort: ProductSort
      first: Int
      after: String
    ): ProductConnection
    product(id: ID!): Product
    categories: [Category!]
    "The caller (needs a token)."
    me: User
    "The caller's orders, newest first."
    myOrders(status: OrderStatus, first: Int, after: String): OrderConnection
    "One of the caller's orders; another user's order is not_found."
    order(id: ID!): Order
    wishlist: Wishlist
    notifications(unread: Boolean, first: Int, after: String): NotificationConnection
    "Accounts, newest first, as GET /api/v1/admin/users (admin); q matches email or name."
    users(q: String, role: Role, status: UserStatus, first: Int, after: String): UserConnection
    "One account (admin)."
    user(id: ID!): User
    "The caller's cart, priced as the catalog has it now."
    cart: Cart
  }

  type Mutation {
    """
    Places an order exactly as POST /api/v1/orders with Idempotency-Key: the same key and
    input answer the same order; the same key with another input is unprocessable; a key
    still in flight is a conflict.
    """
    placeOrder(input: PlaceOrderInput!, idempotencyKey: String!): Order
    "Allowed while pending or confirmed (a paid order is refunded); otherwise a conflict."
    cancelOrder(id: ID!): Order
    addToWishlist(productId: ID!): Wishlist
    removeFromWishlist(productId: ID!): Wishlist
    "True once the notification is read."
    markNotificationRead(id: ID!): Boolean
    "Registration, as POST /api/v1/auth/register: the new customer account."
    createUser(email: String!, password: String!, name: String!): User
    "Renames the caller."
    updateMe(name: String!): User
    """
    A fresh login for the caller; every session that existed before ends, and their access
    tokens are refused from then on. A wrong current password is forbidden.
    """
    changePassword(currentPassword: String!, newPassword: String!): TokenPair
    "Changes an account's role or status (admin); disabling ends its sessions."
    updateUser(id: ID!, role: Role, status: UserStatus): User
    "Adds a product (admin); \`stock\` is what inventory starts with."
    createProduct(input: NewProductInput!): Product
    "Changes the fields given (admin)."
    updateProduct(id: ID!, input: ProductChangesInput!): Product
    "True once deleted (admin); orders keep their snapshot."
    deleteProduct(id: ID!): Boolean
    "Sets a line's quantity (0-100); 0 removes it."
    setCartItem(productId: ID!, quantity: Int!): Cart
    removeCartItem(productId: ID!): Cart
    """
    Places the cart's lines as one order exactly as placeOrder does (the same idempotency
    and checkout budget) and empties the cart; an empty cart is a conflict.
    """
    checkoutCart(paymentMethod: String!, idempotencyKey: String!): Order
  }

  enum ProductSort {
    relevance
    newest
    price
    "REST's -price: the most expensive first."
    price_desc
  }

  "Prices are integer minor units of currency (cents); timestamps are ISO 8601."
  type Product {
    id: ID!
    sku: String!
    name: String!
    description: String!
    category: String!
    price: Int!
    currency: String!
    "Units in stock, as inventory last said."
    available: Int!
    createdAt: String!
    updatedAt: String!
  }

  type ProductConnection {
    items: [Product!]!
    nextCursor: String
  }

  type Category {
    name: String!
    productCount: Int!
  }

  type User {
    id: ID!
    email: String!
    name: String!
    "customer or admin"
    role: String!
    status: UserStatus!
    emailVerified: Boolean!
    createdAt: String!
  }

  enum Role {
    customer
    admin
  }

  enum UserStatus {
    active
    disabled
  }

  type UserConnection {
    items: [User!]!
    nextCursor: String
  }

  "As login and refresh answer; expiresIn is the access token's lifetime in seconds."
  type TokenPair {
    accessToken: String!
    refreshToken: String!
    tokenType: String!
    expiresIn: Int!
  }

  input NewProductInput {
    sku: String!
    name: String!
    description: String
    category: String!
    price: Int!
    currency: String!
    stock: Int
  }

  input ProductChangesInput {
    name: String
    description: String
    category: String
    price: Int
    currency: String
  }

  type Cart {
    items: [CartItem!]!
    total: Int!
    currency: String!
  }

  "A line priced as the catalog has the product now."
  type CartItem {
    productId: ID!
    name: String!
    quantity: Int!
    unitPrice: Int!
    "Units in stock, as inventory last said."
    available: Int!
  }

  enum OrderStatus {
    pending
    confirmed
    cancelled
  }

  enum CancelReason {
    out_of_stock
    payment_declined
    customer_request
    expired
  }

  input OrderLineInput {
    productId: ID!
    quantity: Int!
  }

  input PlaceOrderInput {
    items: [OrderLineInput!]!
    "pm_card_visa, pm_card_chargeDeclined or pm_card_insufficientFunds (test methods)."
    paymentMethod: String!
  }

  type Order {
    id: ID!
    userId: ID!
    status: OrderStatus!
    items: [OrderItem!]!
    total: Int!
    currency: String!
    paymentMethod: String!
    cancelReason: CancelReason
    createdAt: String!
    updatedAt: String!
    "The saga's steps so far, oldest first."
    timeline: [TimelineEntry!]!
  }

  type OrderItem {
    productId: ID!
    "The name and unitPrice the order was placed at."
    name: String!
    quantity: Int!
    unitPrice: Int!
    "The product as the catalog has it now; null once deleted. One catalog read per request."
    product: Product
  }

  enum TimelineStep {
    placed
    stock_reserved
    stock_rejected
    payment_succeeded
    payment_failed
    payment_refunded
    confirmed
    cancelled
  }

  type TimelineEntry {
    step: TimelineStep!
    at: String!
    eventId: String!
    detail: String
  }

  type OrderConnection {
    items: [Order!]!
    nextCursor: String
  }

  type Wishlist {
    "Most recently added first."
    items: [Product!]!
  }

  enum NotificationType {
    welcome
    order_confirmed
    order_cancelled
    price_drop
    back_in_stock
  }

  type Notification {
    id: ID!
    type: NotificationType!
    title: String!
    body: String!
    data: JSON!
    createdAt: String!
    readAt: String
  }

  type NotificationConnection {
    items: [Notification!]!
    nextCursor: String
  }
`;
