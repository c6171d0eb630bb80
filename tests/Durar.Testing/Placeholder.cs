namespace Durar.Testing; public static class Placeholder {}
